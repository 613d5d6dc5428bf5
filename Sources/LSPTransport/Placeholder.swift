// LSPTransport: placeholder until the module lands.
enum LSPTransportPlaceholder {}
