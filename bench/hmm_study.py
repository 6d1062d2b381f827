"""The paper's four-path HMM study (theory.md §8: N0 = 231, M = 924, T = 0.01,
N = 100, last-token readout) as TOML text, for the command-line benches
(cli_large_p.py, mpi_scaling.py): P generated training and P_test test
sequences, plus any extra tables."""


def hmm_study(P, P_test, extra=""):
    return f"""temperature = 0.01
[data]
generator = "hmm"
[data.hmm]
P = {P}
P_test = {P_test}
chain_tokens = 30
N_f = 200
[architecture]
readout = "last"
width = 100
[[architecture.layers]]
heads = [ {{ kind = "hmm_same_token", name = "good", beta = 10 }},
          {{ kind = "hmm_blank", name = "blank1", beta = 10, perturbation = 1, seed = 147 }} ]
[[architecture.layers]]
heads = [ {{ kind = "hmm_uniform", name = "uniform", beta = 10 }},
          {{ kind = "hmm_blank", name = "blank2", beta = 10, perturbation = 1, seed = 247 }} ]
{extra}"""
