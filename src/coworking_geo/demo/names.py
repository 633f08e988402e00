"""Fictional French place names for the synthetic demo, and the small code helpers of the COG.

Every name is invented (roots such as "Synthèse", "Fictiac", "Maquette") but
follows French spelling rules: accents, hyphens, articles ("Le", "La", "L'"),
"Saint-"/"Sainte-" prefixes and "-sur-" river suffixes.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np

ROOTS = [
    "Synthèse", "Fictiac", "Simulac", "Maquette", "Esquisse", "Ébauche", "Brouillon", "Canevas",
    "Gabarit", "Prototy", "Modélie", "Exemplaire", "Chimère", "Mirage", "Hypothèse", "Virtuelle",
    "Imaginac", "Songeval", "Rêverie", "Paramèze", "Variable", "Aléas", "Hasardière", "Échantillon",
    "Tesselle", "Polygonne", "Sommet-Fictif", "Pixelle", "Rasteret", "Vectoire", "Tuilière", "Grainville",
    "Semence", "Abscisse", "Ordonnée", "Médiane", "Quartille", "Centilly", "Simulière", "Démonval",
    "Fictivaux", "Modèlecourt", "Maquettemont", "Artéfac", "Leurrac", "Fantaisie", "Utopiac", "Chimérol",
]
SAINTS = ["Saint-Pixel", "Saint-Vecteur", "Saint-Algorithme", "Saint-Échantillon", "Saint-Sommet",
          "Sainte-Médiane", "Sainte-Variable", "Sainte-Donnée", "Saint-Paramètre", "Sainte-Fiction"]
RIVERS = ["Démone", "Fictive", "Simule", "Aléatoire", "Maquette"]
SUFFIXES = ["-le-Haut", "-le-Bas", "-les-Bains", "-en-Synthèse", "-la-Grande", "-le-Petit",
            "-d'en-Haut", "-la-Forêt", "-les-Vignes", "-le-Château"]
PREFIXES = ["Val-", "Mont-", "Bourg-", "Pont-", "Villers-", "Champ-"]


def fictional_names(rng: np.random.Generator, n: int, reserved: set[str]) -> list[str]:
    """``n`` distinct invented commune names, none of them in ``reserved``."""
    out: list[str] = []
    seen = set(reserved)
    while len(out) < n:
        root = ROOTS[rng.integers(len(ROOTS))]
        kind = rng.integers(8)
        if kind == 0:
            name = root
        elif kind == 1:
            name = f"{root}-sur-{RIVERS[rng.integers(len(RIVERS))]}"
        elif kind == 2:
            name = root + SUFFIXES[rng.integers(len(SUFFIXES))]
        elif kind == 3:
            name = SAINTS[rng.integers(len(SAINTS))]
            if rng.random() < 0.7:
                name += f"-de-{root}" if root[0] not in "AEIOUÉÈÊ" else f"-d'{root}"
        elif kind == 4:
            name = PREFIXES[rng.integers(len(PREFIXES))] + root
        elif kind == 5:
            name = ("L'" + root) if root[0] in "AEIOUÉÈÊ" else ("La " if root.endswith("e") else "Le ") + root
        elif kind == 6:
            name = f"{root}-et-{ROOTS[rng.integers(len(ROOTS))]}"
        else:
            name = f"{root}-lès-{ROOTS[rng.integers(len(ROOTS))]}"
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def _all_forms() -> list[str]:
    """Every name :func:`fictional_names` can draw, plus compound forms (about 55,000 names in all)."""
    vowel = "AEIOUÉÈÊ"
    forms = list(ROOTS)
    forms += [f"{r}-sur-{v}" for r in ROOTS for v in RIVERS]
    forms += [r + s for r in ROOTS for s in SUFFIXES]
    forms += SAINTS + [f"{s}-de-{r}" if r[0] not in vowel else f"{s}-d'{r}" for s in SAINTS for r in ROOTS]
    forms += [p + r for p in PREFIXES for r in ROOTS]
    forms += [("L'" + r) if r[0] in vowel else ("La " if r.endswith("e") else "Le ") + r for r in ROOTS]
    forms += [f"{r}-et-{r2}" for r in ROOTS for r2 in ROOTS]
    forms += [f"{r}-lès-{r2}" for r in ROOTS for r2 in ROOTS]
    forms += [f"{p}{r}-sur-{v}" for p in PREFIXES for r in ROOTS for v in RIVERS]
    forms += [p + r + s for p in PREFIXES for r in ROOTS for s in SUFFIXES]
    forms += [f"{r}-{w}-{r2}{s}" for w in ("et", "lès") for r in ROOTS for r2 in ROOTS if r2 != r
              for s in SUFFIXES]
    return list(dict.fromkeys(forms))


def many_names(rng: np.random.Generator, n: int, reserved: set[str]) -> list[str]:
    """``n`` distinct invented names for large territories (up to about 40,000), none in ``reserved``:
    drawn without replacement from every form of :func:`fictional_names` and compound forms."""
    forms = np.array([f for f in _all_forms() if f not in reserved], dtype=object)
    if n > len(forms):
        raise ValueError(f"demo: only {len(forms)} distinct fictional names are available, {n} asked")
    return list(forms[rng.choice(len(forms), size=n, replace=False)])


@lru_cache(maxsize=65536)
def strip_accents(text: str) -> str:
    """'Échantillon' → 'Echantillon'."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def upper_name(name: str) -> str:
    """IGN ``NOM_M`` form: upper case without accents ("SAINTE-MÉDIANE" → "SAINTE-MEDIANE")."""
    return strip_accents(name).upper()


def type_liaison(name: str) -> int:
    """COG TNCC code of a name: 0 consonant, 1 vowel, 2 'Le', 3 'La', 4 'Les', 5 "L'"."""
    for prefix, code in (("Les ", 4), ("Le ", 2), ("La ", 3), ("L'", 5)):
        if name.startswith(prefix):
            return code
    return 1 if strip_accents(name)[0] in "AEIOUY" else 0


def luhn_digit(digits: str) -> str:
    """Luhn check digit that makes ``digits + d`` a valid SIREN."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return str((10 - total % 10) % 10)


def commune_siren(code: str) -> str:
    """SIREN of a commune: '21' + INSEE code + check digit (2A/2B become 20)."""
    base = "21" + code.replace("2A", "20").replace("2B", "20")
    return base + luhn_digit(base)


def epci_siren(n: int) -> str:
    """SIREN of an EPCI created since 2000: '2000' + 4 digits + check digit."""
    base = f"2000{n:04d}"
    return base + luhn_digit(base)
