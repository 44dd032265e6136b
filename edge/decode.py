"""Grammar-constrained decoding of the OCR's per-slot probabilities (GA 36 position rules).

The OCR model scores every symbol at every slot. Reading each slot's top symbol can produce a
plate that breaks the rules — a `0` where only a letter may stand, an `8` where the layout wants
`B`. Instead we pick, for each plate layout, the likeliest symbol *among those the layout allows at
that position* (and padding after its last character), and keep the layout whose whole plate is
likeliest, weighted by the model's own layout head. This is the look-alike repair by position
(0/O/D/Q, 1/I, 8/B, 2/Z, 5/S...) done with the model's probabilities instead of a fixed table: a
repaired character keeps its (low) probability, so an unsure repair stays visibly unsure.

When the unconstrained top-1 read is already valid it is exactly what this returns.

The OCR's alphabet has no O (serials never hold it). Where a layout allows a character the alphabet
lacks but whose glyph is another symbol's — the authority code O of public-security plates, drawn
as the digit 0 — that symbol is allowed there and written as the character (`GLYPH_OF`): the OCR's
0 in the second position of 粤0A2160 reads 粤OA2160. On the real training and validation crops the
OCR never gives 0 more than 0.03 in that position; on the two 粤O plates of easypr_dev, 0.29-0.65.
All layouts are scored at once with a few array operations per batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dealergate.plates import PLATE_TEMPLATES, PUBLIC_SECURITY_CODE, PlateType

GLYPH_OF = {PUBLIC_SECURITY_CODE: "0"}
"""Characters a layout may hold that the OCR's alphabet lacks, and the symbol whose glyph they share."""
_FLOOR = 1e-9
"""Probabilities are clipped here before the log: a hard zero would make a layout impossible."""


@dataclass(frozen=True)
class Decoded:
    """One decoded plate: constrained text, each character's probability, the layout whose rules
    it follows, and the unconstrained top-1 text (`raw`) for the record."""

    text: str
    char_probs: tuple[float, ...]
    layout: PlateType
    raw: str
    layout_prob: float = 0.0

    @property
    def repaired(self) -> bool:
        return self.text != self.raw


class GrammarDecoder:
    """Decodes (N, slots, vocab) probability arrays for a model whose alphabet ends with the pad."""

    def __init__(self, alphabet: str, pad_char: str, slots: int, regions: list[str] | None = None) -> None:
        self.alphabet = alphabet
        self.pad = alphabet.index(pad_char)
        layouts = [t for t, template in PLATE_TEMPLATES.items() if len(template) <= slots]
        # layouts sharing a template (blue / yellow / double-row yellow) are decoded once
        templates: dict[tuple[str, ...], list[PlateType]] = {}
        for t in layouts:
            templates.setdefault(PLATE_TEMPLATES[t], []).append(t)
        self.layouts = list(templates.values())
        masks = np.zeros((len(templates), slots, len(alphabet)), dtype=bool)
        # (template, position) -> {symbol index: the character it is written as there}
        self._written_as: dict[tuple[int, int], dict[int, str]] = {}
        for k, template in enumerate(templates):
            for pos, chars in enumerate(template):
                masks[k, pos, [alphabet.index(c) for c in chars if c in alphabet]] = True
                for c in chars:
                    glyph = GLYPH_OF.get(c)
                    if c not in alphabet and glyph in alphabet and glyph not in chars:
                        masks[k, pos, alphabet.index(glyph)] = True
                        self._written_as.setdefault((k, pos), {})[alphabet.index(glyph)] = c
            masks[k, len(template) :, self.pad] = True
        self.masks = masks
        # the region-head outputs of each template's layouts, to weight it by the model's layout belief
        self._regions: list[list[tuple[PlateType, int]]] | None = None
        self._region_sum: np.ndarray | None = None
        if regions:
            index = {name: i for i, name in enumerate(regions)}
            self._regions = [[(t, index[t.value]) for t in types if t.value in index] for types in self.layouts]
            # (regions, templates) 0/1: region_probs @ this = each template's summed layout belief
            self._region_sum = np.zeros((len(regions), len(self.layouts)), np.float32)
            for k, pairs in enumerate(self._regions):
                self._region_sum[[i for _, i in pairs], k] = 1.0

    def decode(self, probs: np.ndarray, region_probs: np.ndarray | None = None) -> list[Decoded]:
        """`probs` (N, slots, vocab) softmax outputs; `region_probs` (N, regions) when the model has them."""
        probs = np.asarray(probs, dtype=np.float32)
        n = probs.shape[0]
        # disallowed symbols get -1 so the argmax stays inside the allowed set even where every
        # allowed probability underflowed to 0
        masked = np.where(self.masks[None], probs[:, None], -1.0)  # (N, T, slots, vocab)
        best = masked.argmax(axis=3)  # (N, T, slots)
        best_p = np.maximum(masked.max(axis=3), 0.0)
        score = np.log(np.maximum(best_p, _FLOOR)).sum(axis=2)  # (N, T)
        if region_probs is not None and self._region_sum is not None:
            prior = np.asarray(region_probs, dtype=np.float32) @ self._region_sum  # (N, T); 0 where none
            score = score + np.log(np.maximum(prior, _FLOOR))
        chosen = score.argmax(axis=1)
        raw = probs.argmax(axis=2)
        out = []
        for i in range(n):
            k = int(chosen[i])
            layout, layout_prob = self.layouts[k][0], 0.0
            if region_probs is not None and self._regions is not None and self._regions[k]:
                layout, column = max(self._regions[k], key=lambda pair: region_probs[i, pair[1]])
                layout_prob = round(float(region_probs[i, column]), 4)
            slots = [
                (pos, int(c), float(p))
                for pos, (c, p) in enumerate(zip(best[i, k], best_p[i, k], strict=True))
                if c != self.pad
            ]
            out.append(
                Decoded(
                    text="".join(self._char(k, pos, c) for pos, c, _ in slots),
                    char_probs=tuple(round(p, 4) for _, _, p in slots),
                    layout=layout,
                    raw="".join(self.alphabet[c] for c in raw[i] if c != self.pad),
                    layout_prob=layout_prob,
                )
            )
        return out

    def _char(self, template: int, pos: int, symbol: int) -> str:
        """The character `symbol` stands for at `pos` of `template` (the OCR's 0 is O where only O may be)."""
        written = self._written_as.get((template, pos))
        return written[symbol] if written and symbol in written else self.alphabet[symbol]
