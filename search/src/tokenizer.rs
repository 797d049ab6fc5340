//! The analyzer of [`crate::analysis`] as tantivy tokenizers, so tantivy indexes exactly
//! what the query side computes. Registered under [`WORDS`] and [`STEMS`] at every open
//! (tantivy does not persist tokenizers, only their names in the schema).

use std::sync::Arc;

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use crate::analysis::{Stemmers, words};

/// Tokenizer name of the `words` field: folded words (+ the umlaut form), with positions.
pub const WORDS: &str = "kontor_words";
/// Tokenizer name of the `stems` field: German and English stems not already in `words`.
pub const STEMS: &str = "kontor_stems";

/// Emits folded words and their second form at the same position.
#[derive(Clone, Default)]
pub struct WordsTokenizer;

/// Emits the stems of every word.
#[derive(Clone, Default)]
pub struct StemsTokenizer {
    stemmers: Arc<Stemmers>,
}

/// A finished list of tokens, handed out one by one.
pub struct VecTokenStream {
    tokens: Vec<Token>,
    next: usize,
    current: Token,
}

impl VecTokenStream {
    fn new(tokens: Vec<Token>) -> Self {
        VecTokenStream {
            tokens,
            next: 0,
            current: Token::default(),
        }
    }
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        match self.tokens.get_mut(self.next) {
            Some(t) => {
                self.current = std::mem::take(t);
                self.next += 1;
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.current
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

fn token(w: &crate::analysis::Word, text: String) -> Token {
    Token {
        offset_from: w.range.start,
        offset_to: w.range.end,
        position: w.position,
        text,
        position_length: 1,
    }
}

impl Tokenizer for WordsTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let mut out = Vec::new();
        for w in words(text) {
            if let Some(alt) = &w.alt {
                out.push(token(&w, alt.clone()));
            }
            let folded = w.folded.clone();
            out.push(token(&w, folded));
        }
        VecTokenStream::new(out)
    }
}

impl Tokenizer for StemsTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let mut out = Vec::new();
        for w in words(text) {
            for s in self.stemmers.extra_stems(&w) {
                out.push(token(&w, s));
            }
        }
        VecTokenStream::new(out)
    }
}
