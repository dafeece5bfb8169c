// The attribution fixture prompt: five library paragraphs and a question whose answer (the access code)
// stands only in the second one, so that paragraph must drive the answer. Shared by the engine and CLI tests.

export const LIBRARY_PARAGRAPHS = [
  'The library opens at nine in the morning and closes at six in the evening on weekdays.',
  'The access code for the archive room is XK-4471. Staff must not share it with visitors.',
  'Visitors may borrow up to five books at a time for three weeks.',
  'The reading room on the second floor is quiet and has forty desks with lamps.',
  'Questions about lost cards go to the front desk, where a new card costs two dollars.',
];
export const LIBRARY_PROMPT = `${LIBRARY_PARAGRAPHS.join('\n\n')}\n\nQuestion: what is the access code for the archive room?\nAnswer: The access code for the archive room is`;
