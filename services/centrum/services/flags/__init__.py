"""The feature-flag service (FlagService): versioned flags and segments, evaluation, WatchFlags."""
