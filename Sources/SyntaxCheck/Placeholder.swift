// SyntaxCheck: placeholder until the module lands.
enum SyntaxCheckPlaceholder {}
