import { type CliIo, CliError, type Command, EXIT } from './cli-io.js';
import { commands } from './commands.js';

export async function main(argv: string[], io: CliIo): Promise<number> {
  // One at a time: jest's ESM loader fails on concurrent imports of modules that share a dependency.
  const loaded: Command[] = [];
  for (const load of commands) loaded.push(await load());
  const [name, ...rest] = argv;
  const help = () => {
    io.stdout.write(
      ['usage: cx <command> [options]', '', 'commands:', ...loaded.map((c) => `  ${c.usage.padEnd(48)} ${c.summary}`), '',
        'common options: --url URL (or CX_URL, default http://localhost:3000), --api-key KEY (or CX_API_KEY)', ''].join('\n'),
    );
  };
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    help();
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = loaded.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`cx: unknown command ${JSON.stringify(name)}; commands: ${loaded.map((c) => c.name).join(', ')}\n`);
    return EXIT.usage;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`cx: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr.write(`cx: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT.failed;
  }
}

