"""The Olomouc Region's 13 ORPs (municipalities with extended powers) and a few municipalities of each, as migration
``casework/0009`` seeds them and ``casework.services.competence_ensure_defaults`` restores them (the demo; tests after
a database flush). Real names; the full list is extended in the admin. Plain data: the migration imports it."""

from __future__ import annotations

#: (ORP code, ORP name, municipalities whose children it is competent for).
OLOMOUC_REGION: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("OM", "Olomouc", ("Olomouc", "Bystrovany", "Dolany", "Hlubočky", "Velká Bystřice", "Bohuňovice")),
    ("PV", "Prostějov", ("Prostějov", "Kostelec na Hané", "Němčice nad Hanou", "Plumlov", "Smržice")),
    ("PR", "Přerov", ("Přerov", "Kojetín", "Tovačov", "Brodek u Přerova", "Dřevohostice")),
    ("SU", "Šumperk", ("Šumperk", "Bludov", "Loučná nad Desnou", "Velké Losiny", "Rapotín")),
    ("JE", "Jeseník", ("Jeseník", "Javorník", "Zlaté Hory", "Vidnava", "Mikulovice")),
    ("HR", "Hranice", ("Hranice", "Potštát", "Hustopeče nad Bečvou", "Bělotín", "Teplice nad Bečvou")),
    ("KO", "Konice", ("Konice", "Horní Štěpánov", "Jesenec", "Ludmírov")),
    ("LI", "Lipník nad Bečvou", ("Lipník nad Bečvou", "Osek nad Bečvou", "Týn nad Bečvou", "Veselíčko")),
    ("LT", "Litovel", ("Litovel", "Náměšť na Hané", "Senice na Hané", "Červenka")),
    ("MO", "Mohelnice", ("Mohelnice", "Loštice", "Úsov", "Moravičany")),
    ("ST", "Šternberk", ("Šternberk", "Moravský Beroun", "Domašov nad Bystřicí", "Babice", "Jívová")),
    ("UN", "Uničov", ("Uničov", "Dlouhá Loučka", "Medlov", "Paseka")),
    ("ZA", "Zábřeh", ("Zábřeh", "Štíty", "Postřelmov", "Zvole", "Bušín")),
)
