//! neurite-nn (under construction).
