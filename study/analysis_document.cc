#include "study/analysis_document.h"

#include "data/atomic_file.h"
#include "data/result_index.h"

namespace attnpaths {

nlohmann::json CommitAnalysis(ResultFolder& out, AnalysisDocument doc, const std::string& json_name,
                              const std::string& csv_name, int indent) {
  WriteFileAtomically(out.Path(csv_name), doc.csv);
  doc.json["files"] = FilesJson(out.Staged({csv_name}));
  WriteFileAtomically(out.Path(json_name), doc.json.dump(indent) + "\n");
  out.Commit({json_name});
  return doc.json;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace attnpaths
