//! TEMPORARY stub: replaced by the real codec.
#![allow(missing_docs, clippy::pedantic)]
use crate::record::{DataOpcode, Payload};
#[derive(Debug, Clone, PartialEq)]
pub enum WsItem {
    Message { opcode: DataOpcode, data: Payload, frames: u32, compressed: bool, wire_bytes: u64 },
    Ping { data: Vec<u8>, wire_bytes: u64 },
    Pong { data: Vec<u8>, wire_bytes: u64 },
    Close { code: Option<u16>, reason: String, wire_bytes: u64 },
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError { pub message: String, pub close_code: u16 }
impl std::fmt::Display for ProtocolError { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(&self.message) } }
#[derive(Debug, Default)]
pub struct Decoder { buf: Vec<u8> }
impl Decoder {
    pub fn new(_max: usize) -> Self { Self::default() }
    pub fn set_allow_rsv1(&mut self, _a: bool) {}
    pub fn feed(&mut self, b: &[u8]) { self.buf.extend_from_slice(b) }
    pub fn next_item(&mut self) -> Option<Result<WsItem, ProtocolError>> { None }
    pub fn buffer_mut(&mut self, min: usize) -> &mut [u8] { self.buf.resize(min, 0); &mut self.buf }
    pub fn commit(&mut self, _n: usize) {}
    pub fn at_eof(&mut self) -> Option<ProtocolError> { None }
}
pub fn encode_frame(_out: &mut Vec<u8>, _fin: bool, _rsv: u8, _opcode: u8, _mask: Option<[u8; 4]>, _payload: &[u8]) {}
pub fn encode_close_payload(_code: u16, _reason: &str) -> Vec<u8> { Vec::new() }
pub fn close_code_meaning(_code: u16) -> &'static str { "" }
