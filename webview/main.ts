// Placeholder until the inspector panel lands (issue 5).
export {};
