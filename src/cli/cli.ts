// Placeholder until the command line lands (issue 3).
process.stderr.write('prompt-attention: not implemented yet\n');
process.exit(1);
