//! neurite-datasets (under construction).
