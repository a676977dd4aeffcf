"""The domain of smartco: event schema, dataset records, diffs, privacy, sources, alignment and splits."""
