"""Builders of the shipped reference data in ``resources/reference/`` (stdlib only).

Run through ``packaging/build_reference.py`` (``hardware.csv``, ``sites.csv``) and
``packaging/build_factors.py`` (``grid_factors.csv``, ``parameters.csv``,
``inference_energy.csv``). One module per data family:

* :mod:`common` -- :class:`~common.BuildError`, input files, numbers, CSV output
* :mod:`sources` -- shared ``source``, ``notes`` and ``licence`` wordings
* :mod:`tables` -- column order of each CSV file and shared row builders
* hardware: :mod:`accelerators`, :mod:`hardware` (servers, CPUs)
* sites: :mod:`providers` (fleet PUE/WUE), :mod:`places` (country codes), :mod:`sites`
* grid factors: :mod:`grid_countries`, :mod:`grid_subnational` (US states, Chinese
  provinces, Nordic zones), :mod:`grid_cloud` (cloud regions)
* parameters: :mod:`parameters`, :mod:`utilisation`, :mod:`equivalences`,
  :mod:`grid_ranges` (ranges of grid factors, from the grid rows)
* inference energy: :mod:`inference_php`, :mod:`inference_mlenergy`,
  :mod:`inference_published` (EcoLogits coefficients and GPU count, Gemini)
* :mod:`factor_tables` -- the three factor tables assembled, checked and sorted
"""
