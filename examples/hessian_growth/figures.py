"""Figures and numbers of the Hessian growth study (README.md), from the folders
`attnpaths hessian` wrote:

  heatmap.png/pdf     log10 |H| of the single layer at sigma = 1 (Q, K, V blocks separated)
  growth.png/pdf      ||.||_F of (outer, functional, full) x (VV, QQ, QK) against sigma,
                      mean +- s.e. over repeats, dashed power laws at the fitted slopes
  layers.png/pdf      the trained network's fitted exponents per layer against the
                      prediction of docs/attention-hessian.md §5 and the single layer's
  spectrum.png/pdf    the spectral density of H, H_o, H_f at sigma = 1
  results.md          the tables quoted in README.md

usage: /usr/bin/python3 figures.py OUT_DIR"""
import csv
import json
import os
import sys

import numpy as np
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else 'out'
single = os.path.join(out, 'single_layer')
network = os.path.join(out, 'network_hessian')
figs = os.path.join(out, 'figures')
os.makedirs(figs, exist_ok=True)


def save(fig, name):
    for ext in ('png', 'pdf'):
        fig.savefig(os.path.join(figs, f'{name}.{ext}'), dpi=150, bbox_inches='tight')
    plt.close(fig)


def load(folder):
    with open(os.path.join(folder, 'summary.json')) as fh:
        summary = json.load(fh)
    with open(os.path.join(folder, 'slopes.json')) as fh:
        slopes = json.load(fh)
    return (summary, slopes, np.load(os.path.join(folder, 'norms.npy')),
            np.load(os.path.join(folder, 'sigmas.npy')))


lines = ['# Hessian growth study: results', '']

# --- single layer -----------------------------------------------------------------
summary, slopes, norms, sigmas = load(single)
blocks = summary['norms_axes']['blocks']
parts = summary['norms_axes']['parts']
D, k = summary['D'], summary['k']

H = np.load(os.path.join(single, 'hessian.npy'))
fig, ax = plt.subplots(figsize=(6, 5.2))
with np.errstate(divide='ignore'):
    im = ax.imshow(np.log10(np.abs(H)), cmap='viridis', vmin=np.log10(np.abs(H).max()) - 8)
for edge in (D * k, 2 * D * k):
    ax.axhline(edge - 0.5, color='w', lw=0.8)
    ax.axvline(edge - 0.5, color='w', lw=0.8)
ticks = [D * k / 2, 1.5 * D * k, 2 * D * k + D * D / 2]
ax.set_xticks(ticks, ['$W_Q$', '$W_K$', '$W_V$'])
ax.set_yticks(ticks, ['$W_Q$', '$W_K$', '$W_V$'])
fig.colorbar(im, ax=ax, label=r'$\log_{10}|H|$')
ax.set_title(f'self-attention loss Hessian, $\\sigma$ = 1 ({H.shape[0]} parameters)')
save(fig, 'heatmap')

fit = {(s['block'], s['part']): s for s in slopes['blocks']}
fig, axes = plt.subplots(3, 3, figsize=(11, 9), sharex=True)
for col, block in enumerate(['VV', 'QQ', 'QK']):
    b = blocks.index(block)
    for row, part in enumerate(parts):
        ax = axes[row, col]
        p = parts.index(part)
        f = fit[(block, part)]
        if f['zero']:
            ax.text(0.5, 0.5, 'identically zero', transform=ax.transAxes, ha='center')
        else:
            v = norms[:, :, b, p]
            mean, se = v.mean(axis=1), v.std(axis=1, ddof=1) / np.sqrt(v.shape[1])
            ax.errorbar(sigmas, mean, yerr=se, fmt='o-', ms=3, lw=1)
            lo, hi = slopes['fit_range']
            sel = (sigmas >= lo) & (sigmas <= hi * (1 + 1e-12))
            c = np.exp(np.mean(np.log(mean[sel]) - f['mean'] * np.log(sigmas[sel])))
            ax.plot(sigmas, c * sigmas ** f['mean'], 'k--', lw=0.8,
                    label=f"slope {f['mean']:.2f} ± {f['standard_error']:.2f} "
                          f"(predicted {f['predicted']:g})")
            ax.set_xscale('log')
            ax.set_yscale('log')
            ax.legend(fontsize=7, loc='upper left')
        ax.set_title(f'{block} {part}', fontsize=9)
        if row == 2:
            ax.set_xlabel(r'input scale $\sigma$')
        if col == 0:
            ax.set_ylabel(r'$\|\cdot\|_F$')
fig.suptitle('single self-attention layer: block norms against the input scale')
save(fig, 'growth')

lines += ['## Single layer (hessian.toml)', '',
          f'fit range sigma in [{slopes["fit_range"][0]:.4g}, {slopes["fit_range"][1]:.4g}] '
          f'({slopes["fit_points"]} points), {slopes["repeats"]} repeats, '
          f'{summary["growth_seconds"]:.1f} s', '',
          '| block | part | fitted slope | s.e. | spread | predicted |', '|---|---|---|---|---|---|']
for s in slopes['blocks']:
    if s['zero']:
        lines.append(f"| {s['block']} | {s['part']} | identically 0 | | | |")
    else:
        lines.append(f"| {s['block']} | {s['part']} | {s['mean']:.3f} | {s['standard_error']:.3f} "
                     f"| {s['spread']:.3f} | {s['predicted']:g} |")

# spectrum at sigma = 1
dens = os.path.join(single, 'density.csv')
if os.path.exists(dens):
    with open(dens) as fh:
        rows = list(csv.DictReader(l for l in fh if not l.startswith('#')))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for part in ('full', 'outer', 'functional'):
        r = [x for x in rows if x['matrix'] == 'H' and x['part'] == part]
        ax.plot([float(x['lambda']) for x in r], [float(x['density']) for x in r], label=part)
    ax.set_yscale('log')
    ax.set_ylim(bottom=1e-4)
    ax.set_xlabel(r'$\lambda$')
    ax.set_ylabel('density')
    ax.legend()
    ax.set_title(r'spectral density at $\sigma$ = 1 (stochastic Lanczos quadrature)')
    save(fig, 'spectrum')
    with open(os.path.join(single, 'spectrum.csv')) as fh:
        spec = list(csv.DictReader(l for l in fh if not l.startswith('#')))
    lines += ['', '| matrix | part | lambda_max | lambda_min |', '|---|---|---|---|']
    for part in ('full', 'outer', 'functional'):
        top = [float(x['value']) for x in spec if x['matrix'] == 'H' and x['part'] == part
               and x['which'] == 'largest' and x['index'] == '0']
        bot = [float(x['value']) for x in spec if x['matrix'] == 'H' and x['part'] == part
               and x['which'] == 'smallest' and x['index'] == '0']
        lines.append(f'| H | {part} | {top[0]:.4g} | {bot[0]:.4g} |')

# --- trained network ----------------------------------------------------------------
if os.path.isdir(network):
    nsum, nslopes, nnorms, nsig = load(network)
    lines += ['', '## Trained network (heads 2, 1, 1)', '',
              f'fit range sigma in [{nslopes["fit_range"][0]:.4g}, {nslopes["fit_range"][1]:.4g}], '
              f'{nslopes["repeats"]} repeats (batches of the training set)', '',
              '| block | layer | part | fitted slope | s.e. | predicted (§5) | single layer |',
              '|---|---|---|---|---|---|---|']
    single_pred = {('VV', 'outer'): 2, ('QQ', 'outer'): 6, ('KK', 'outer'): 6, ('QK', 'outer'): 6,
                   ('VQ', 'outer'): 4, ('VK', 'outer'): 4, ('QQ', 'functional'): 5,
                   ('KK', 'functional'): 5, ('QK', 'functional'): 3, ('VQ', 'functional'): 3,
                   ('VK', 'functional'): 3}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, part in zip(axes, ('outer', 'functional')):
        for kind, marker in (('QQ', 'o'), ('QK', 's'), ('VQ', '^')):
            pts = [s for s in nslopes['blocks'] if s['kind'] == kind and s['part'] == part
                   and not s['zero'] and s['layer'] >= 1]
            if not pts:
                continue
            layer = np.array([s['layer'] for s in pts])
            ax.errorbar(layer + 0.05 * 'QQ QK VQ'.split().index(kind), [s['mean'] for s in pts],
                        yerr=[s['standard_error'] for s in pts], fmt=marker, label=f'{kind} measured')
            ls = np.arange(1, layer.max() + 1)
            ax.plot(ls, [pts[0]['predicted'] if False else
                         next((s['predicted'] for s in pts if s['layer'] == l), np.nan) for l in ls],
                    'k_', ms=18, mew=1.5)
            if (kind, part) in single_pred:
                ax.axhline(single_pred[(kind, part)], ls=':', lw=0.8, color=ax.lines[-1].get_color()
                           if ax.lines else 'gray')
        ax.set_xlabel('layer')
        ax.set_ylabel('growth exponent')
        ax.set_title(f'{part} blocks: measured (markers), predicted (bars), single layer (dotted)',
                     fontsize=8)
        ax.legend(fontsize=7)
    save(fig, 'layers')
    for s in nslopes['blocks']:
        if s['part'] == 'full' or s['zero']:
            continue
        sp = single_pred.get((s['kind'], s['part']), 0 if s['part'] == 'functional' else 2)
        pred = '' if s['predicted'] is None else f"{s['predicted']:g}"
        lines.append(f"| {s['block']} | {s['layer']} | {s['part']} | {s['mean']:.3f} | "
                     f"{s['standard_error']:.3f} | {pred} | {sp} |")

with open(os.path.join(out, 'results.md'), 'w') as fh:
    fh.write('\n'.join(lines) + '\n')
print('\n'.join(lines))
print('figures in', figs)
