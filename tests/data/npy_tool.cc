// A helper for numpy_crosscheck.py.
//
//   npy_tool MANIFEST
//
// Each line of MANIFEST is "IN<TAB>OUT" or just "IN". For each, the tool reads
// IN with attnpaths::ReadNpy and prints one line: "ok DESCR" after writing the
// array to OUT with attnpaths::WriteNpy (when OUT is given), or "error MESSAGE"
// when an attnpaths::Error was thrown. Any other exception ends the run with
// exit status 3: every malformed file must surface as an attnpaths::Error.
#include <exception>
#include <fstream>
#include <iostream>
#include <string>

#include "data/npy.h"
#include "kernels/error.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: npy_tool MANIFEST\n";
    return 2;
  }
  std::ifstream manifest(argv[1]);
  if (!manifest) {
    std::cerr << "npy_tool: cannot open " << argv[1] << "\n";
    return 2;
  }
  std::string line;
  while (std::getline(manifest, line)) {
    const size_t tab = line.find('\t');
    const std::string in = line.substr(0, tab);
    const std::string out = tab == std::string::npos ? "" : line.substr(tab + 1);
    try {
      const attnpaths::NpyArray a = attnpaths::ReadNpy(in);
      if (!out.empty()) attnpaths::WriteNpy(out, a.shape, a.data.data());
      std::cout << "ok " << a.dtype << "\n";
    } catch (const attnpaths::Error& e) {
      std::cout << "error " << e.what() << "\n";
    } catch (const std::exception& e) {
      std::cout << "unexpected exception for " << in << ": " << e.what() << std::endl;
      return 3;
    }
  }
  return 0;
}
