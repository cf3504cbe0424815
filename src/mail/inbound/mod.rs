//! Customer email coming in, read as mesa needs it: [`parse`] (MIME, encodings, charsets, loop
//! detection) and [`text`] (the reply without quoted history and signature, and the answer its
//! first line gives). Applying a message to the desk is [`crate::steps::inbox`].

pub mod imap;
pub mod parse;
pub mod text;
