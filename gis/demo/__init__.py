"""Synthetic demo data for gridmap (东昌府区 创城网格): geometry, standards, people, activity."""
