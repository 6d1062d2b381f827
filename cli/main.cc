// attnpaths — the command line. Bad input: "error: …" on stderr, exit 2.
#include <cstdio>
#include <exception>
#include <iostream>
#include <regex>

#include "cli/commands.h"
#include "data/provenance.h"
#include "kernels/collective.h"
#include "kernels/error.h"
#include "parallel/blas_threads.h"
#include "parallel/communicator.h"

int main(int argc, char** argv) {
  using namespace attnpaths::cli;
  // Under mpirun (and a build with MPI) every process runs the command;
  // solve, predict and sweep split their examples or points over them, and
  // only rank 0 prints and writes (docs/cli.md "Running over MPI").
  attnpaths::MpiSession mpi(&argc, &argv);
  const attnpaths::Communicator& world = attnpaths::Communicator::World();
  CLI::App app{
      "attnpaths: statistical-mechanics theory of Bayesian attention networks at finite "
      "width (Tiberi et al., NeurIPS 2024)"};
  app.require_subcommand(1);
  // Version, commit, compiler, libraries and BLAS (data/provenance.h).
  app.set_version_flag(
      "--version",
      [] {
        std::string text = attnpaths::VersionText();
        if (!text.empty() && text.back() == '\n') text.pop_back();  // CLI11 adds one
        return text;
      },
      "Print the version, git commit, compiler and BLAS, then exit");
  GlobalOptions global;
  global.command_line.assign(argv, argv + argc);
  Command run;
  RegisterDemo(app, global, &run);
  RegisterSolve(app, global, &run);
  RegisterSweep(app, global, &run);
  RegisterGp(app, global, &run);
  RegisterPredict(app, global, &run);
  RegisterCheck(app, global, &run);
  RegisterHeads(app, global, &run);
  RegisterPrune(app, global, &run);
  RegisterAlign(app, global, &run);
  RegisterSample(app, global, &run);
  RegisterCompare(app, global, &run);
  RegisterTrain(app, global, &run);
  RegisterTrainEval(app, global, &run);
  RegisterKernelProp(app, global, &run);
  RegisterShapedSde(app, global, &run);
  RegisterHessian(app, global, &run);
  RegisterTrainSweep(app, global, &run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (world.root()) std::cerr << "error: " << e.what() << "\n";  // every rank parses alike
    return 2;
  }
  if (global.threads < 0) {
    if (!world.root()) return 2;
    std::cerr << "error: --threads: found " << global.threads
              << ", expected 0 (every core) or a positive number of threads\n";
    return 2;
  }
  // --threads N bounds BLAS's threads too (0 leaves OpenBLAS's own choice).
  if (global.threads > 0) attnpaths::LimitBlasThreads(global.threads);
  // Only these commands split their work over processes; any other one run by
  // several processes would have them all write the same folder.
  if (world.size() > 1) {
    const auto parsed = app.get_subcommands();
    const std::string name = parsed.empty() ? "" : parsed.front()->get_name();
    if (name != "solve" && name != "predict" && name != "sweep") {
      if (world.root()) {
        std::cerr << "error: attnpaths " << name << ": found " << world.size()
                  << " processes (mpirun -n " << world.size()
                  << "), expected one process: only solve, predict and sweep run over MPI\n";
      }
      return 2;
    }
  }
  if (!world.root()) {
    global.quiet = true;       // progress from rank 0 only
    std::cout.rdbuf(nullptr);  // reports too (an error still reaches stderr)
  }
  try {
    return run ? run() : 2;
  } catch (const attnpaths::Error& e) {
    // A CollectiveError is every rank's, with the same message (kernels/collective.h):
    // rank 0 says it.
    if (dynamic_cast<const attnpaths::CollectiveError*>(&e) && !world.root()) return 2;
    // A write into a result folder's hidden staging folder (data/result_folder.h) names the
    // file where it will land: "out/.staging-12-0/U_1.npy" reads "out/U_1.npy".
    static const std::regex staging("/\\.staging-[0-9]+-[0-9]+/");
    std::cerr << "error: " << std::regex_replace(e.what(), staging, "/") << "\n";
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "error: out of memory (lower P, the number of paths, or use the factored kernel "
                 "strategy)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
}
