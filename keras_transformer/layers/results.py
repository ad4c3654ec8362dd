"""The one return convention of the attention layers and blocks.

A call returns `output` (a tensor); with a cache, always `(output, cache)`; with
`return_attention_scores=True`, a dict: `"output"`, the attention weights by name, and
`"cache"` when a cache was passed. The number of items never depends on other arguments.
"""


def attention_results(output, cache, scores, return_attention_scores):
    """`output`, `(output, cache)` or the dict of named results (see the module docstring)."""
    if return_attention_scores:
        results = {"output": output, **scores}
        if cache is not None:
            results["cache"] = cache
        return results
    if cache is not None:
        return output, cache
    return output
