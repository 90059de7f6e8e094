// Preloaded into the Portkey gateway by the gateway benchmark (node --import): its start-server.js listens on every
// interface and takes no host option, so a listen on a bare port is bound to loopback here instead.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number') {
    if (args[1] === undefined) args[1] = '127.0.0.1';
    else if (typeof args[1] === 'function') args.splice(1, 0, '127.0.0.1');
  }
  return listen.apply(this, args);
};
