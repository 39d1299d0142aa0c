#!/usr/bin/env node
// GraphQL over WebSocket (graphql-transport-ws subprotocol ONLY) using the
// reference implementation: graphql-ws 6 + ws 8 + graphql 16.
//
// Usage: node graphql_ws_server.js      (NODE_PATH -> node_modules with the 3)
// Listens on 127.0.0.1, port 0; the FIRST stdout line is the port alone.
// Endpoint: ws://127.0.0.1:PORT/graphql
// Schema: query { hello }; subscription { counter(to: Int = 10, intervalMs: Int = 100) }
// yields 0..to-1 every intervalMs then completes.  Concurrent subscriptions OK.
// The legacy "graphql-ws" subprotocol is NOT served: graphql-ws rejects it
// (close 4406 "Subprotocol not acceptable") -- use graphql_ws_server.py for it.
'use strict';
const { WebSocketServer } = require('ws');
const { useServer } = require('graphql-ws/use/ws'); // v6 path (v5: graphql-ws/lib/use/ws)
const {
  GraphQLSchema, GraphQLObjectType, GraphQLString, GraphQLInt,
} = require('graphql');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: { hello: { type: GraphQLString, resolve: () => 'world' } },
  }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      counter: {
        type: GraphQLInt,
        args: {
          to: { type: GraphQLInt, defaultValue: 10 },
          intervalMs: { type: GraphQLInt, defaultValue: 100 },
        },
        // subscribe returns an AsyncIterator; resolve maps each value.
        subscribe: async function* (_root, { to, intervalMs }) {
          for (let i = 0; i < to; i++) {
            yield i;
            await sleep(intervalMs);
          }
        },
        resolve: (v) => v,
      },
    },
  }),
});

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/graphql' });
// connectionInitWaitTimeout: close 4408 if no connection_init within 3 s.
useServer({ schema, connectionInitWaitTimeout: 3000 }, wss);
wss.on('listening', () => process.stdout.write(`${wss.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
