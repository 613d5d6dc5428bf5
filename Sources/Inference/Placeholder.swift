// Inference: placeholder until the module lands.
enum InferencePlaceholder {}
