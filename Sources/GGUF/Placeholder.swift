// GGUF: placeholder until the module lands.
enum GGUFPlaceholder {}
