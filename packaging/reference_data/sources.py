"""Wordings of the ``source``, ``notes`` and ``licence`` cells shared by several modules."""

SECONDARY = "secondary source; verify"
UNTAGGED = "status not recorded in the methodology notes; verify against the datasheet"
#: Licence entry for a single published figure (a fact, cited; no licence attaches).
CITED = "cited fact"
FIXED = "Not an uncertain input: low = high = central."

#: Sources cited by name in rows of several modules.
BLOOM = "Luccioni et al. 2023 (BLOOM)"
ECOLOGITS = "EcoLogits methodology update 2025"
