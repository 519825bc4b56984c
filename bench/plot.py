"""The plot of ``bench/http_load.py --sizes``: p50 and p99 latency against data size.

One line per figure (the app solid, the reference dashed), both axes logarithmic: the data
grows by factors of ten and the latencies span milliseconds to seconds. Needs matplotlib
(the ``bench`` extra: ``pip install -c constraints.txt -e '.[bench]'``).
"""

from __future__ import annotations

from pathlib import Path

# One size's figures: name -> (app p50, app p99, reference p50, reference p99), in ms.
SizeFigures = dict[str, tuple[float | None, float | None, float | None, float | None]]

# The figures worth a line: the rest crowd the plot without saying more.
PLOTTED = (
    "nearest, random points across the region",
    "nearest, points near towns",
    "nearest, random points across the region, category=shelter&open_now=true",
    "map area, Mexico + Central America",
    "map area, Mexico City",
    "corridor",  # the first corridor figure (10 km, no from)
    "consulate serving a Guatemalan in Bogotá",
)


def _pick(names: list[str]) -> list[str]:
    picked = []
    for wanted in PLOTTED:
        match = next((name for name in names if name == wanted), None)
        match = match or next((name for name in names if name.startswith(wanted)), None)
        if match and match not in picked:
            picked.append(match)
    return picked


def _label(name: str) -> str:
    """A legend entry short enough for two columns."""
    return (
        name.replace(" across the region", "")
        .replace(", category=shelter&open_now=true", " + shelter, open now")
        .replace(" (nearest office)", "")
    )


def latency_by_size(results: list[tuple[int, SizeFigures]], path: Path) -> None:
    """Draw p50 (left) and p99 (right) against the number of synthetic places to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [size for size, _ in results]
    names = _pick(list(results[0][1]))
    figure, axes = plt.subplots(1, 2, figsize=(12, 5.5), sharey=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for column, (axis, title) in enumerate(zip(axes, ("p50", "p99"), strict=True)):
        for number, name in enumerate(names):
            colour = colours[number % len(colours)]
            app = [figures.get(name, (None,) * 4)[column] for _, figures in results]
            reference = [figures.get(name, (None,) * 4)[2 + column] for _, figures in results]
            axis.plot(sizes, app, marker="o", color=colour, label=_label(name))
            if any(value is not None for value in reference):
                axis.plot(sizes, reference, marker="x", linestyle="--", color=colour,
                          label=f"{_label(name)} (reference)")  # fmt: skip
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("synthetic places")
        axis.set_title(f"{title} latency (ms), wrk over loopback")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("ms")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=2, fontsize="small")
    figure.tight_layout(rect=(0, 0.22, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
