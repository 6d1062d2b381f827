// AnalysisDocument — what `attnpaths heads`, `prune` and `align` write: one
// JSON document and one CSV table (its provenance as '#' comment lines), the
// JSON listing the CSV's fingerprint; both land in the folder together or not
// at all (data/result_folder.h).
//
//   AnalysisDocument doc = HeadsDocument(s, ReportHeads(arch, U1), run);
//   ResultFolder out("runs/a", {"heads.json", "heads.csv"});
//   nlohmann::json written = CommitAnalysis(out, std::move(doc), "heads.json", "heads.csv", 2);
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "data/result_folder.h"

namespace attnpaths {

struct AnalysisDocument {
  nlohmann::json json;  // without "files" (CommitAnalysis adds it)
  std::string csv;      // header line and rows, after the provenance comment
};

// Stages `csv_name`, adds "files" (its name, size and SHA-256,
// data/result_index.h) to the JSON, stages `json_name` (dump(indent)) and
// commits both. Returns the JSON written.
nlohmann::json CommitAnalysis(ResultFolder& out, AnalysisDocument doc, const std::string& json_name,
                              const std::string& csv_name, int indent);

// A CSV field, quoted (RFC 4180) when it holds a comma, a quote or a newline.
std::string CsvField(const std::string& s);

}  // namespace attnpaths
