//! Call flows through the engine in virtual time, with the far ends played by the test.

mod caller;
mod features;
mod flows;
mod harness;
mod media;
mod sim;
