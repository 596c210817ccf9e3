export { SLACK_MAX_LENGTH, type SlackApp, type SlackAppOptions, startSlackApp } from './app.js';
