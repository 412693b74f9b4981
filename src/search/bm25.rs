//! Okapi BM25 over weighted fields: each action is one document whose term
//! frequencies count a word once per occurrence times the weight of its field
//! (the id counts more than the description).

use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct Bm25 {
    /// Term-frequency saturation and length normalisation (usually 1.2 and 0.75).
    k1: f64,
    b: f64,
    documents: Vec<Document>,
    document_frequency: HashMap<String, usize>,
    average_length: f64,
}

#[derive(Debug, Clone, Default)]
struct Document {
    terms: HashMap<String, f64>,
    length: f64,
}

/// A document under construction: terms added field by field.
#[derive(Debug, Default)]
pub struct DocumentBuilder {
    terms: HashMap<String, f64>,
}

impl DocumentBuilder {
    pub fn add(&mut self, terms: impl IntoIterator<Item = String>, weight: f64) {
        for term in terms {
            *self.terms.entry(term).or_insert(0.0) += weight;
        }
    }
}

impl Bm25 {
    pub fn new(builders: Vec<DocumentBuilder>, k1: f64, b: f64) -> Self {
        let documents: Vec<Document> = builders
            .into_iter()
            .map(|b| Document { length: b.terms.values().sum(), terms: b.terms })
            .collect();
        let mut document_frequency = HashMap::new();
        for doc in &documents {
            for term in doc.terms.keys() {
                *document_frequency.entry(term.clone()).or_insert(0) += 1;
            }
        }
        let average_length = documents.iter().map(|d| d.length).sum::<f64>() / documents.len().max(1) as f64;
        Self { k1, b, documents, document_frequency, average_length }
    }

    /// Whether any document holds `term`.
    pub fn knows(&self, term: &str) -> bool {
        self.document_frequency.contains_key(term)
    }

    /// The score of every document, in order, for weighted query terms.
    pub fn scores(&self, query: &[(String, f64)]) -> Vec<f64> {
        let n = self.documents.len() as f64;
        let idf: Vec<Option<f64>> = query
            .iter()
            .map(|(term, _)| {
                let df = *self.document_frequency.get(term)? as f64;
                Some(((n - df + 0.5) / (df + 0.5) + 1.0).ln())
            })
            .collect();
        self.documents
            .iter()
            .map(|doc| {
                let norm = self.k1 * (1.0 - self.b + self.b * doc.length / self.average_length);
                query
                    .iter()
                    .zip(&idf)
                    .filter_map(|((term, weight), idf)| {
                        let tf = *doc.terms.get(term)?;
                        Some(weight * (*idf)? * tf * (self.k1 + 1.0) / (tf + norm))
                    })
                    .sum()
            })
            .collect()
    }
}
