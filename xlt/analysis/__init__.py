"""Analyses of trained models (not training): interpolation paths and planes between fine-tuned
models, their geometry, representation shift, and the tables and figures made from them.

- :mod:`xlt.studies.interpolation.settings`: the ``interpolation`` config section, validated (torch-free)
- :mod:`xlt.studies.interpolation.interpolation`: θ_bi + α₁ δ_src + α₂ δ_tgt built in place and scored
- :mod:`xlt.studies.interpolation.report`: tables and figures of the interpolation study
- :mod:`xlt.analysis.shift`: representation shift between languages (Hausdorff distance, PCA)
- :mod:`xlt.studies.comparison.report`: every method of a task side by side (one protocol, from the
  pool and the LMS runs), with the target resources each used and a paired test
"""
