enum TransientStorePlaceholder {}
