// Tokenization: placeholder until the module lands.
enum TokenizationPlaceholder {}
