// InferenceTestSupport: placeholder until the module lands.
enum InferenceTestSupportPlaceholder {}
