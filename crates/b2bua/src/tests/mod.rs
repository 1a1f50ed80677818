//! Call flows through the engine in virtual time, with the far ends played by the test.

mod answer_call;
mod caller;
mod conference;
mod consult;
mod cti_requests;
mod device_events;
mod features;
mod flows;
mod harness;
mod make_call;
mod media;
mod refer;
mod replaces;
mod sim;
mod transfer;
