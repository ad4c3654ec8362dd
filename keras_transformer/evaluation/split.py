"""The examples of a run's split that `evaluate` scores."""


def chosen_examples(run, split, limit):
    """The first `limit` examples of `split` (all when None); ValueError when none."""
    examples = getattr(run.splits, split)[:limit]
    if not examples:
        raise ValueError(
            f"The {split} split of {run.directory} is empty; nothing to evaluate. Choose "
            "another --split."
        )
    return examples
