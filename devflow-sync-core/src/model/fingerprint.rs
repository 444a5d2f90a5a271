//! A stable 64-bit fingerprint of field values, for providers whose change times are
//! too coarse to tell two changes apart (GitHub's are whole seconds): a version made of
//! the change time and the fingerprint still differs when anything synced differs.

use std::fmt::Write as _;

use super::{FieldValue, Fields};

/// A multiply-xor hash (FNV's prime, word-wise) over a fixed encoding of values. The encoding and the hash are part of the
/// stored format (versions kept in links are compared across releases), so they never
/// depend on the standard library's `Hash` or on a JSON writer.
///
/// ```
/// use devflow_sync_core::model::{Fields, Fingerprint};
/// let a = Fields::new().with("title", "A").with("body", "x");
/// let b = Fields::new().with("title", "A").with("body", "y");
/// assert_ne!(Fingerprint::of(&a), Fingerprint::of(&b));
/// assert_eq!(Fingerprint::of(&a), Fingerprint::of(&a.clone()));
/// let mut f = Fingerprint::new();
/// f.fields(&a).text("epic");
/// assert_ne!(f.finish(), Fingerprint::of(&a));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Self::new()
    }
}

impl Fingerprint {
    /// An empty fingerprint.
    pub const fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    /// The fingerprint of `fields` alone.
    pub fn of(fields: &Fields) -> u64 {
        let mut f = Self::new();
        f.fields(fields);
        f.finish()
    }

    /// The value so far.
    pub const fn finish(&self) -> u64 {
        self.0
    }

    /// Eight bytes at a time (little-endian words, the tail zero-padded, then the
    /// length): each step is a bijection of the state, so any one changed word changes
    /// the result, and the rotation carries high bits down into later steps.
    fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.word(u64::from_le_bytes(word));
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            let mut word = [0u8; 8];
            word[..tail.len()].copy_from_slice(tail);
            self.word(u64::from_le_bytes(word));
        }
        self.word(bytes.len() as u64)
    }

    fn word(&mut self, word: u64) -> &mut Self {
        self.0 = (self.0 ^ word)
            .wrapping_mul(0x0100_0000_01b3)
            .rotate_left(29);
        self
    }

    /// Adds a string (its length included, so `("ab", "c")` and `("a", "bc")` differ).
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.bytes(text.as_bytes())
    }

    /// Adds every field, name and value, in name order.
    pub fn fields(&mut self, fields: &Fields) -> &mut Self {
        self.word(fields.len() as u64);
        for (name, value) in fields {
            self.text(name).value(value);
        }
        self
    }

    /// Adds one value, its type first.
    pub fn value(&mut self, value: &FieldValue) -> &mut Self {
        let mut scratch = String::new();
        match value {
            FieldValue::Null => self.bytes(&[0]),
            FieldValue::Text(t) => self.bytes(&[1]).text(t),
            FieldValue::LongText(t) => self.bytes(&[2]).text(t),
            FieldValue::Number(n) => {
                let _ = write!(scratch, "{n}");
                self.bytes(&[3]).text(&scratch)
            }
            FieldValue::Bool(b) => self.bytes(&[4, u8::from(*b)]),
            FieldValue::Date(d) => {
                let _ = write!(scratch, "{d}");
                self.bytes(&[5]).text(&scratch)
            }
            FieldValue::DateTime(t) => self
                .bytes(&[6])
                .word(t.timestamp() as u64)
                .word(u64::from(t.timestamp_subsec_nanos())),
            FieldValue::Enum(t) => self.bytes(&[7]).text(t),
            FieldValue::Set(members) => {
                self.bytes(&[8]).word(members.len() as u64);
                for m in members {
                    self.text(m);
                }
                self
            }
            FieldValue::User(u) => self
                .bytes(&[9])
                .text(&u.id)
                .text(u.display_name.as_deref().unwrap_or("")),
            FieldValue::Json(v) => self.bytes(&[10]).text(&v.to_string()),
        }
    }
}
