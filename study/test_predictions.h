// PredictStudyTest — the predictor on a study's test set (theory.md §4, §9),
// whether its path inputs are held whole or computed block by block.
//
//   const StudyKernels k = BuildKernels(study, threads, storage, block);
//   PredictorStatistics st = PredictStudyTest(study, *k.train, k.test, T, U1, threads, block);
//   st.mean;      // P* × D, every test point
//   st.accuracy;  // NaN without test labels or for regression (ApplyTask)
//
// One process (`world` of size 1) with the test set in memory: Predict on
// `test` (k.test). A streamed test set, or a run over MPI: G is factorised
// once, each process of `world` predicts its share of the test points in blocks of
// `block_examples` (0: about 32 MiB of inputs; StreamPathInputs, so memory
// holds one block's path inputs, not P* × M), and one sum gives every
// process every row. Accuracy and generalisation error then follow from the
// whole arrays (kernels/metrics.h), as Predict computes them. A failure on
// one process is an Error on every process (kernels/collective.h).
#pragma once

#include <Eigen/Core>

#include "data/config.h"
#include "parallel/communicator.h"
#include "solver/predictor.h"
#include "study/study_kernels.h"

namespace attnpaths {

PredictorStatistics PredictStudyTest(const Study& study, const PathKernel& train,
                                     const PathInputs& test, double temperature,
                                     const Eigen::MatrixXd& U1, int threads, int block_examples = 0,
                                     const Communicator& world = Communicator::World());

}  // namespace attnpaths
