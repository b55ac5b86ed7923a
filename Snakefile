# xlt: cross-lingual transfer research as one reproducible workflow.
# Table of contents only: rules live in rules/*.smk, logic in the xlt package.
from snakemake.utils import min_version
from xlt.config import ConfigError, validate

min_version("9.0")


# config.yaml is the embedded default; a --configfile given on the command line replaces it
# (instead of being merged into it, which would mix the default tasks into another study).
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


# schemas/config.schema.yaml: types, ranges and defaults; an error is one line naming the key
try:
    validate(config, f"{workflow.basedir}/schemas/config.schema.yaml")
except ConfigError as e:
    raise WorkflowError(f"invalid configuration: {e}") from None


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/encoder.smk"
include: "rules/finetune.smk"
include: "rules/interpolation.smk"
include: "rules/metaxl.smk"
include: "rules/iwda.smk"
include: "rules/select.smk"
include: "rules/lms.smk"
include: "rules/translate.smk"
include: "rules/report.smk"
include: "rules/comparison.smk"


rule all:
    default_target: True
    input:
        all_outputs(),
