"""Real data: readers for the upstream file formats, sources (file/url/hub) and ``prepare_split``.

Every reader turns one upstream file into common-schema records (see ``xlt.io``); nothing
downstream of ``results/data/{dataset}/{lang}/{split}.jsonl`` knows about file formats.
"""
