"""xlt: cross-lingual transfer research as one reproducible workflow (library part).

The library never imports snakemake; workflow_scripts/ adapt Snakemake jobs to these functions.
"""

__version__ = "0.1.0"
