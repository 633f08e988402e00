"""INSEE Filosofi 2019 base communale for the demo, in the official layout (``;``, ASCII, CRLF, COG 2021 codes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from coworking_geo.demo.fmt import csv_text, write_bytes
from coworking_geo.demo.model import DemoTerritory

#: columns of cc_filosofi_2019_COM.CSV, in the official order
COLUMNS = ["CODGEO", "NBMENFISC19", "NBPERSMENFISC19", "MED19", "PIMP19", "TP6019", "TP60AGE119", "TP60AGE219",
           "TP60AGE319", "TP60AGE419", "TP60AGE519", "TP60AGE619", "TP60TOL119", "TP60TOL219", "PACT19", "PTSA19",
           "PCHO19", "PBEN19", "PPEN19", "PPAT19", "PPSOC19", "PPFAM19", "PPMINI19", "PPLOGT19", "PIMPOT19", "D119",
           "D919", "RD19"]
#: INSEE's secrecy: median below 50 households, poverty rate and the rest below 1,000 households
MIN_HH_MEDIAN = 50
MIN_HH_DETAIL = 1000
META = ("COD_VAR;LIB_VAR;LIB_VAR_LONG;COD_MOD;LIB_MOD;TYPE_VAR;LONG_VAR\r\n"
        "CODGEO;Code géographique;Code géographique;;;CHAR;5\r\n"
        "NBMENFISC19;Nombre de ménages fiscaux;Nombre de ménages fiscaux;;;NUM;7\r\n"
        "NBPERSMENFISC19;Nombre de personnes dans les ménages fiscaux;Nombre de personnes dans les ménages fiscaux;;;NUM;7\r\n"
        "MED19;Médiane du niveau vie (€);Médiane du niveau de vie (€);;;NUM;5\r\n"
        "TP6019;Taux de pauvreté-Ensemble (%);Taux de pauvreté-Ensemble (%);;;NUM;2\r\n")


def write_filosofi(terr: DemoTerritory, root: Path, rng: np.random.Generator) -> None:
    """``cc_filosofi_2019_COM.CSV`` and ``meta_cc_filosofi_2019_COM.CSV`` under ``root``.

    Codes are those of 2021: a commune nouvelle created after 2021 appears as its
    former communes. Median *niveau de vie* (€) grows with density around 21,000 €;
    the poverty rate (%) falls with it; secret cells are empty, never 0.
    """
    c = terr.communes
    rows = []
    former = terr.former[terr.former["year"] > 2021] if len(terr.former) else terr.former
    parents = set(former["parent"]) if len(former) else set()
    dens_of = dict(zip(c.index, c["dens"].astype(int), strict=True))
    units = [(code, int(pop), dens_of[code]) for code, pop in zip(c.index, c["pop2021"], strict=True)
             if code not in parents]
    if len(former):
        units += [(o, int(pop), dens_of[par]) for o, pop, par in
                  zip(former["old_code"], former["population"], former["parent"], strict=True)]
    for code, pop, dens in sorted(units):
        persons = int(round(pop * 0.97))
        hh = int(round(persons / 2.2))
        med = 21_000 + 900 * (4 - dens) + rng.normal(0, 1_500)
        rate = float(np.clip(14 + 2.0 * (dens - 4) + rng.normal(0, 4), 3, 45))
        rec: list[object] = [""] * len(COLUMNS)
        rec[0], rec[1], rec[2] = code, hh, persons
        if hh >= MIN_HH_MEDIAN:
            rec[3] = int(round(med / 10) * 10)
        if hh >= MIN_HH_DETAIL:
            rec[5] = int(round(rate))
        rows.append(rec)
    write_bytes(root / "cc_filosofi_2019_COM.CSV", csv_text(COLUMNS, rows, sep=";", newline="\r\n").encode("ascii"))
    write_bytes(root / "meta_cc_filosofi_2019_COM.CSV", META.encode("utf-8"))
