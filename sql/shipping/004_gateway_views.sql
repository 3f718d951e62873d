-- The gateway reads nothing of shipping (an order carries its shipment):
-- its role keeps no grant here.
REVOKE SELECT ON shipments FROM souk_shipping_gateway;
