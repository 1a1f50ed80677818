//! Scenario tests of the engine in virtual time.
