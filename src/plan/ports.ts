// Ports that more than one part of the plan names (the component table, kubeconfigs, cluster facts).
export const APISERVER_PORT = 6443;
/** api-lb on every node: the API at 127.0.0.1:6444, spread over every control plane. */
export const API_LB_PORT = 6444;
export const API_LB_HEALTH_PORT = 6445;
