"""Figures and numbers of the multi-head gradient-descent study (README.md), from the
folders `attnpaths train-sweep` wrote (out/eta_*):

  loss_curves.png/pdf   mean training loss (± s.e. over repeats) against GD steps, one
                        curve per head count; rows: step sizes, columns: width modes
  final.png/pdf         final training loss, test accuracy and the NTK margin at
                        initialisation (raw and normalised by max |phi|) against H
  hessian.png/pdf       lambda_max and lambda_min of the loss Hessian along training, and
                        eta * lambda_max against the stability edge 2
  results.md            the tables quoted in README.md

usage: /usr/bin/python3 figures.py OUT_DIR"""
import csv
import glob
import json
import os
import sys

import numpy as np
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else 'out'
figs = os.path.join(out, 'figures')
os.makedirs(figs, exist_ok=True)


def rows(path):
    with open(path) as fh:
        return list(csv.DictReader(l for l in fh if not l.startswith('#')))


def save(fig, name):
    for ext in ('png', 'pdf'):
        fig.savefig(os.path.join(figs, f'{name}.{ext}'), dpi=150, bbox_inches='tight')
    plt.close(fig)


runs = []
for folder in sorted(glob.glob(os.path.join(out, 'eta_*'))):
    with open(os.path.join(folder, 'summary.json')) as fh:
        summary = json.load(fh)
    eta = summary['provenance']['settings']['training']['learning_rate']
    runs.append((eta, folder, summary))
runs.sort()
modes = ['equal_total', 'growing']
cmap = plt.get_cmap('viridis')

fig, axes = plt.subplots(len(runs), 2, figsize=(10, 3.6 * len(runs)), squeeze=False)
for i, (eta, folder, summary) in enumerate(runs):
    curves = rows(os.path.join(folder, 'curves.csv'))
    heads = sorted({int(r['heads']) for r in curves})
    for j, mode in enumerate(modes):
        ax = axes[i, j]
        for c, H in enumerate(heads):
            sel = [r for r in curves if r['mode'] == mode and int(r['heads']) == H]
            if not sel:
                continue
            steps = sorted({int(r['step']) for r in sel})
            M = np.array([[float(r['train_loss']) for r in sel if int(r['step']) == s]
                          for s in steps])
            mean, se = M.mean(axis=1), M.std(axis=1, ddof=1) / np.sqrt(M.shape[1])
            color = cmap(c / max(len(heads) - 1, 1))
            ax.plot(steps, mean, color=color, label=f'H = {H}')
            ax.fill_between(steps, mean - se, mean + se, color=color, alpha=0.25)
        ax.set_yscale('log')
        ax.set_xlabel('GD step')
        ax.set_ylabel('training loss (logistic)')
        ax.set_title(f'{mode.replace("_", " ")} width, $\\eta$ = {eta:g}')
        ax.legend(fontsize=7)
save(fig, 'loss_curves')

lines = ['# Multi-head gradient descent: results', '']
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
margin_drawn = set()
for eta, folder, summary in runs:
    lines += [f'## eta = {eta:g} ({summary["runs"]} runs, {summary["seconds"]:.0f} s)', '',
              '| mode | H | d | n_2 | parameters | final train loss | vs H = 1 (paired) | '
              'test accuracy | lambda_max (last) | lambda_min (last) | NTK margin | '
              'normalised NTK margin | separable |',
              '|---|---|---|---|---|---|---|---|---|---|---|---|---|']
    for g in summary['groups']:
        track = g['hessian_track_mean']
        lmax = f"{track[-1]['lambda_max']:.3g}" if track else ''
        lmin = f"{track[-1]['lambda_min']:.3g}" if track else ''
        nm = g.get('ntk_margin', {})
        if nm.get('mean') is not None:
            margin = f"{nm['mean']:.4g} ± {nm['standard_error']:.2g}"
            normalised = f"{nm['normalized_mean']:.4g} ± {nm['normalized_standard_error']:.2g}"
            separable = f"{nm['separable_repeats']}/{nm['decided_repeats']}"
        else:
            margin = normalised = separable = ''
        lines.append(
            f"| {g['mode']} | {g['heads']} | {g['key_dim']} | {g['width']} | {g['num_parameters']} | "
            f"{g['final_train_loss']['mean']:.4f} ± {g['final_train_loss']['standard_error']:.4f} | "
            f"{g['paired_difference_to_first_heads']['mean']:+.4f} ± "
            f"{g['paired_difference_to_first_heads']['standard_error']:.4f} | "
            f"{g['final_test_accuracy']['mean']:.4f} ± {g['final_test_accuracy']['standard_error']:.4f} | "
            f"{lmax} | {lmin} | {margin} | {normalised} | {separable} |")
    lines.append('')
    for mode, ls in zip(modes, ('-', '--')):
        gs = [g for g in summary['groups'] if g['mode'] == mode]
        H = [g['heads'] for g in gs]
        axes[0].errorbar(H, [g['final_train_loss']['mean'] for g in gs],
                         yerr=[g['final_train_loss']['standard_error'] for g in gs], ls=ls,
                         marker='o', label=f'{mode}, $\\eta$ = {eta:g}')
        axes[1].errorbar(H, [g['final_test_accuracy']['mean'] for g in gs],
                         yerr=[g['final_test_accuracy']['standard_error'] for g in gs], ls=ls,
                         marker='o', label=f'{mode}, $\\eta$ = {eta:g}')
        # The margin is taken at initialisation: the same for every step size.
        ms = [g for g in gs if g.get('ntk_margin', {}).get('mean') is not None]
        if ms and mode not in margin_drawn:
            margin_drawn.add(mode)
            Hm = [g['heads'] for g in ms]
            axes[2].errorbar(Hm, [g['ntk_margin']['mean'] for g in ms],
                             yerr=[g['ntk_margin']['standard_error'] for g in ms], ls=ls,
                             marker='o', color='C0', label=f'$\\gamma$, {mode}')
            axes[2].errorbar(Hm, [g['ntk_margin']['normalized_mean'] for g in ms],
                             yerr=[g['ntk_margin']['normalized_standard_error'] for g in ms],
                             ls=ls, marker='s', mfc='none', color='C3',
                             label=f'$\\gamma / \\max_\\mu \\|\\phi_\\mu\\|$, {mode}')
            # Separable repeats of each H (a not-separable repeat counts as gamma = 0,
            # which a log axis cannot show: the counts are written at the bottom).
            for g in ms:
                nm = g['ntk_margin']
                if nm['separable_repeats'] < nm['decided_repeats']:
                    axes[2].annotate(f"{nm['separable_repeats']}/{nm['decided_repeats']}",
                                     (g['heads'], 0.02 if mode == modes[0] else 0.09),
                                     xycoords=('data', 'axes fraction'), ha='center',
                                     fontsize=7, color='C0' if mode == modes[0] else 'C1')
for ax, label in zip(axes, ('final training loss', 'test accuracy',
                            'NTK margin at initialisation')):
    ax.set_xscale('log', base=2)
    ax.set_xlabel('heads H')
    ax.set_ylabel(label)
    ax.legend(fontsize=7)
axes[0].set_yscale('log')
axes[2].set_yscale('log')
axes[2].set_title('margin vs H (hard-margin SVM on $\\nabla_\\theta f(x;\\theta_0)$);\n'
                  'bottom: separable repeats where not all (blue equal total, orange growing)',
                  fontsize=8)
save(fig, 'final')

fig, axes = plt.subplots(len(runs), 2, figsize=(10, 3.6 * len(runs)), squeeze=False)
for i, (eta, folder, summary) in enumerate(runs):
    for j, mode in enumerate(modes):
        ax = axes[i, j]
        gs = [g for g in summary['groups'] if g['mode'] == mode]
        for c, g in enumerate(gs):
            if not g['hessian_track_mean']:
                continue
            color = cmap(c / max(len(gs) - 1, 1))
            steps = [t['step'] for t in g['hessian_track_mean']]
            ax.plot(steps, [eta * t['lambda_max'] for t in g['hessian_track_mean']], '-o',
                    ms=3, color=color, label=f"H = {g['heads']}")
            ax.plot(steps, [eta * t['lambda_min'] for t in g['hessian_track_mean']], ':',
                    color=color)
        ax.axhline(2, color='k', lw=0.8, ls='--')
        ax.set_xlabel('GD step')
        ax.set_ylabel(r'$\eta\,\lambda_{max}$ (solid), $\eta\,\lambda_{min}$ (dotted)')
        ax.set_title(f'{mode.replace("_", " ")} width, $\\eta$ = {eta:g}; dashed: 2')
        ax.legend(fontsize=7)
save(fig, 'hessian')

with open(os.path.join(out, 'results.md'), 'w') as fh:
    fh.write('\n'.join(lines) + '\n')
print('\n'.join(lines))
print('figures in', figs)
