"""Understanding: what each sentence of a call means, read by trained heads on a multilingual
sentence encoder, as a spaCy pipeline per language. Readings become hits the checks use where
the rules are silent or confidently wrong (rules/understanding.yaml says when), and carry their
probability into the evidence."""
