// Placeholder until the engine worker lands (issue 3).
export {};
