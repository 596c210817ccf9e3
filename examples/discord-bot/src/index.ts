export { DISCORD_MAX_LENGTH, type DiscordApp, type DiscordAppOptions, startDiscordApp } from './app.js';
