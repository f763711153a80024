"""Path checks shared by the commands that read files and write a result."""

from __future__ import annotations

from pathlib import Path

from cdq.errors import UsageError


def refuse_overwriting_inputs(out: Path, inputs: list) -> None:
    """Stop before an output file would replace one of the inputs (exit 2).

    Examples:
        >>> refuse_overwriting_inputs(Path("out.csv"), ["in.csv"])
        >>> refuse_overwriting_inputs(Path("in.csv"), ["in.csv"])
        Traceback (most recent call last):
        cdq.errors.UsageError: in.csv: the output would overwrite an input file (choose another --out)
    """
    target = Path(out).resolve()
    for item in inputs:
        if "://" not in str(item) and Path(str(item)).resolve() == target:
            raise UsageError(f"{out}: the output would overwrite an input file (choose another --out)")
