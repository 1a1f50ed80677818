//! Many seeded random calls (placeholder until the soak harness lands).
