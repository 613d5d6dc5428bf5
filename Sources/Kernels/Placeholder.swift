// Kernels: placeholder until the module lands.
enum KernelsPlaceholder {}
