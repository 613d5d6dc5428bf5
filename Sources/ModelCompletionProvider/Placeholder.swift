// ModelCompletionProvider: placeholder until the module lands.
enum ModelCompletionProviderPlaceholder {}
